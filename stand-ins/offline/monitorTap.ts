/**
 * What the engine sees of each registration beyond `MockResourceArgs`: the URN, parent,
 * dependencies and resource options. `setMocks` hands the mocks only type, name, inputs and
 * provider, so this wraps the SDK's internal `MockMonitor.registerResource`, which holds the
 * full `RegisterResourceRequest`. Internal API: pinned with the SDK.
 */

/** The engine-side view of one registration. */
export interface Registration {
    urn: string;
    type: string;
    name: string;
    parent: string;
    custom: boolean;
    dependencies: string[];
    provider: string;
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    protect: boolean;
    replaceOnChanges: string[];
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const mocksModule: { MockMonitor: { prototype: Record<string, unknown> } } = require("@pulumi/pulumi/runtime/mocks");

const registrations: Registration[] = [];
let installed = false;

function urnOf(parent: string, type: string, name: string): string {
    const monitor = mocksModule.MockMonitor.prototype as { newUrn: (p: string, t: string, n: string) => string };
    return monitor.newUrn.call(undefined, parent, type, name);
}

/** Starts recording. Idempotent. */
export function installMonitorTap(): void {
    if (installed) return;
    installed = true;
    const proto = mocksModule.MockMonitor.prototype as {
        registerResource: (req: RequestLike, cb: unknown) => Promise<void>;
    };
    const original = proto.registerResource;
    proto.registerResource = function (this: unknown, req: RequestLike, cb: unknown) {
        const r: Registration = {
            urn: urnOf(req.getParent(), req.getType(), req.getName()),
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent(),
            custom: req.getCustom(),
            dependencies: req.getDependenciesList(),
            provider: req.getProvider(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            retainOnDelete: req.getRetainondelete() ?? false,
            protect: req.getProtect() ?? false,
            replaceOnChanges: req.getReplaceonchangesList(),
            ignoreChanges: req.getIgnorechangesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        };
        registrations.push(r);
        return original.call(this, req, cb);
    };
}

interface RequestLike {
    getParent(): string;
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getDependenciesList(): string[];
    getProvider(): string;
    getDeletebeforereplace(): boolean;
    getRetainondelete(): boolean | undefined;
    getProtect(): boolean | undefined;
    getReplaceonchangesList(): string[];
    getIgnorechangesList(): string[];
    getAdditionalsecretoutputsList(): string[];
}

/** Every registration so far, in order. */
export function tappedRegistrations(): readonly Registration[] {
    return registrations;
}

/** Forgets what was recorded (between program runs in one process). */
export function resetMonitorTap(): void {
    registrations.length = 0;
}
