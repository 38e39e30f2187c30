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
    const base = process.emit;
    let inner = base;
    let depth = 0;
    const filtered = function (this: NodeJS.Process, event: string, ...args: unknown[]): boolean {
        if (event === "unhandledRejection" && TERMINATING.test(String((args[0] as Error | undefined)?.message ?? args[0]))) return true;
        // A wrapper that saved `filtered` as its original calls back in here: go on to the base.
        const next = (depth > 0 ? base : inner) as (...a: unknown[]) => boolean;
        depth++;
        try {
            return next.call(this, event, ...args);
        } finally {
            depth--;
        }
    };
    // Before any listener (the test runner's too) sees the event. A property, so that libraries
    // that patch process.emit and later put "their" original back (signal-exit, under execa)
    // replace only what is inside the filter, never the filter itself.
    Object.defineProperty(process, "emit", {
        configurable: true,
        enumerable: false,
        get: () => filtered,
        set: (fn: typeof process.emit) => {
            inner = fn === (filtered as unknown) ? base : fn;
        },
    });
}
