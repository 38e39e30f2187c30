/**
 * After an `up` fails, the engine closes its resource monitor while the inline program still has
 * component outputs to register; the SDK then rejects those calls with "Resource monitor is
 * terminating", and nobody can catch them (pulumi/pulumi#10744). The operation itself has already
 * reported its failure, so these rejections carry nothing: they are dropped here, and every other
 * unhandled rejection goes on as before.
 */
const TERMINATING = /Resource monitor is terminating/;

let installed = false;

/** Drops the SDK's uncatchable "Resource monitor is terminating" rejections in this process. */
export function ignoreMonitorTerminating(): void {
    if (installed) return;
    installed = true;
    const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean;
    // Before any listener (the test runner's too) sees the event.
    process.emit = ((event: string, ...args: unknown[]) => {
        if (event === "unhandledRejection" && TERMINATING.test(String((args[0] as Error | undefined)?.message ?? args[0]))) return true;
        return emit(event, ...args);
    }) as typeof process.emit;
}
