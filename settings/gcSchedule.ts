/** The scheduled garbage collection: `gcSchedule`. */
import { GC_SCHEDULE_DEFAULTS } from "../components/defaults";
import { imageRef } from "./image";
import type { Reader } from "./reader";
import type { RegistryMajorVersion } from "../components/registryConfig/model";
import type { GcScheduleSettings } from "../components/args";

export const GC_SCHEDULE_KEYS = ["intervalHours", "deleteUntagged", "image"];

export function parseGcSchedule(r: Reader, registryVersion: RegistryMajorVersion | undefined): GcScheduleSettings | undefined {
    if (!r.has("gcSchedule")) return undefined;
    const what = "an object {intervalHours?, deleteUntagged?, image?}";
    const o = r.section("gcSchedule", GC_SCHEDULE_KEYS, what);
    if (!o) return undefined;
    const gc: GcScheduleSettings = { ...GC_SCHEDULE_DEFAULTS };
    if (o.intervalHours !== undefined) gc.intervalHours = r.int("gcSchedule.intervalHours", o.intervalHours, 1, 8760) ?? gc.intervalHours;
    if (o.deleteUntagged !== undefined) {
        const d = r.bool("gcSchedule.deleteUntagged", o.deleteUntagged);
        if (d && registryVersion === 2) {
            r.fail(
                "gcSchedule.deleteUntagged",
                "is refused on distribution 2: its garbage-collect deletes the platform images of a multi-arch index as untagged (distribution#3178); use a 3.x image",
            );
        } else if (d !== undefined) gc.deleteUntagged = d;
    }
    if (o.image !== undefined) gc.image = imageRef(r, "gcSchedule.image", o.image, "docker:27-cli (the docker CLI and a shell)") ?? gc.image;
    return gc;
}
