/**
 * After an `up` fails, the engine closes its resource monitor while the inline program still has
 * component outputs to register; the SDK then rejects those calls with "Resource monitor is
 * terminating", and nobody can catch them (pulumi/pulumi#10744). A bad config the inline program
 * throws (a RunError) is printed as the operation's error and rejected once more, uncaught. The
 * operation itself has already reported its failure, so these rejections carry nothing: they are
 * dropped here, and every other unhandled rejection goes on as before.
 */
const TERMINATING = /Resource monitor is terminating/;

/**
 * Whether an unhandled rejection is one the operation has already reported: the monitor's
 * "terminating" rejections, and a `pulumi.RunError` the inline program threw (the program's bad
 * config), which the SDK prints as the operation's error and then rejects once more, uncaught.
 */
function alreadyReported(reason: unknown): boolean {
    if ((reason as { __pulumiRunError?: boolean } | undefined)?.__pulumiRunError === true) return true;
    return TERMINATING.test(String((reason as Error | undefined)?.message ?? reason));
}

let installed = false;

/** Drops the SDK's uncatchable rejections of what an operation already reported (see {@link alreadyReported}) in this process. */
export function ignoreMonitorTerminating(): void {
    if (installed) return;
    installed = true;
    const base = process.emit;
    let inner = base;
    let depth = 0;
    const filtered = function (this: NodeJS.Process, event: string, ...args: unknown[]): boolean {
        if (event === "unhandledRejection" && alreadyReported(args[0])) return true;
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
