/** Garbage collection on a schedule: `GcScheduler` and the script it runs (`gcScript.ts`, pure). */
export { GcScheduler, type GcSchedulerArgs } from "./gcScheduler";
export { type GcSchedulerModel, garbageCollectRunFlags, gcSchedulerScript } from "./gcScript";
