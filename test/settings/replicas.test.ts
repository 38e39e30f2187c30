/** `parseSettings`: replicas and loadBalancer, replicaHosts, redisCache, gcSchedule. Pure: no Pulumi runtime. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ok, problems } from "./support";

describe("replicas and loadBalancer", () => {
    it("one replica by default and no balancer; above one, the balancer with its defaults or what the stack says", () => {
        const one = ok({});
        assert.equal(one.replicas, 1);
        assert.equal(one.loadBalancer, undefined);
        const two = ok({ replicas: "2", registry: { redis: { addrs: ["redis.internal:6379"] }, blobDescriptorCache: "redis" } });
        assert.equal(two.replicas, 2);
        assert.deepEqual(two.loadBalancer, { image: "haproxy:3.0", checkIntervalMs: 1000 });
        assert.deepEqual(two.warnings, []);
        assert.deepEqual(ok({ replicas: 3, loadBalancer: { image: "mirror.internal/haproxy:3.0", checkIntervalMs: 500 } }).loadBalancer, {
            image: "mirror.internal/haproxy:3.0",
            checkIntervalMs: 500,
        });
    });

    it("refuses a count outside 1-16 and a bad balancer; warns about a balancer for one replica and about per-replica caches", () => {
        assert.match(problems({ replicas: 0 })[0], /replicas must be an integer 1-16/);
        assert.match(problems({ replicas: 17 })[0], /replicas must be an integer 1-16/);
        assert.match(problems({ replicas: 2, loadBalancer: { image: "HAProxy" } })[0], /loadBalancer\.image must be an image reference/);
        assert.match(problems({ replicas: 2, loadBalancer: { checkIntervalMs: 10 } })[0], /loadBalancer\.checkIntervalMs must be an integer 100-60000/);
        assert.match(problems({ replicas: 2, loadBalancer: { mode: "http" } })[0], /loadBalancer\.mode/);
        assert.match(ok({ loadBalancer: { image: "haproxy:3.0" } }).warnings.join("\n"), /loadBalancer applies only with replicas above 1/);
        assert.match(ok({ replicas: 2 }).warnings.join("\n"), /replicas runs 2 registries with a blob-descriptor cache each in memory/);
    });
});

describe("replicaHosts", () => {
    const s3 = { storage: { driver: "s3", region: "eu-west-1", bucket: "b" } };
    const hosts = [
        { dockerHost: "ssh://root@10.0.0.12" },
        { dockerHost: "ssh://deploy@replica-2.example:2222", address: "10.0.1.13", port: 5443, sshOpts: ["-i", "/k"] },
    ];

    it("one replica per host, reached at the ssh host or the address given, on the endpoint's port by default; the balancer always", () => {
        const s = ok({ ...s3, replicaHosts: hosts, registry: { redis: { addrs: ["redis.internal:6379"] }, blobDescriptorCache: "redis" } });
        assert.equal(s.replicas, 2);
        assert.deepEqual(s.replicaHosts, [
            { docker: { host: "ssh://root@10.0.0.12", sshOpts: [] }, address: "10.0.0.12", port: 5000, bindAddress: "0.0.0.0" },
            { docker: { host: "ssh://deploy@replica-2.example:2222", sshOpts: ["-i", "/k"] }, address: "10.0.1.13", port: 5443, bindAddress: "0.0.0.0" },
        ]);
        assert.deepEqual(s.loadBalancer, { image: "haproxy:3.0", checkIntervalMs: 1000 });
        assert.deepEqual(s.warnings, []);
        const one = ok({ ...s3, replicaHosts: [{ dockerHost: "ssh://[fd00::12]" }] });
        assert.equal(one.replicaHosts[0].address, "fd00::12");
        assert.ok(one.loadBalancer, "a single replica host still sits behind the balancer");
    });

    it("refuses what would not work, naming the key: a bad or repeated host, a loopback or missing address, a count that disagrees, a port the balancer takes", () => {
        const at = (v: Record<string, unknown>) => problems({ ...s3, ...v });
        assert.match(
            at({ replicaHosts: [{ dockerHost: "tcp://10.0.0.12:2375" }] })[0],
            /^private-registry:replicaHosts\[0\]\.dockerHost must be unix:\/\/\/<socket path> or ssh:/,
        );
        assert.match(at({ replicaHosts: [{}] })[0], /^private-registry:replicaHosts\[0\]\.dockerHost is required/);
        assert.match(
            at({ replicaHosts: [hosts[0], hosts[0]] })[0],
            /^private-registry:replicaHosts\[1\]\.dockerHost repeats "ssh:\/\/\*\*\*@10\.0\.0\.12": one replica per Docker host/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "ssh://root@127.0.0.1" }] })[0],
            /^private-registry:replicaHosts\[0\]\.address is "127\.0\.0\.1", a loopback address/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "unix:///var/run/docker.sock", port: 5001 }] })[0],
            /^private-registry:replicaHosts\[0\]\.address is required with a unix:\/\/ dockerHost/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "unix:///var/run/docker.sock", address: "10.0.0.2" }] })[0],
            /^private-registry:replicaHosts\[0\]\.port is 5000 on the load balancer's own Docker host/,
        );
        assert.deepEqual(
            ok({ ...s3, replicaHosts: [{ dockerHost: "unix:///var/run/docker.sock", address: "10.0.0.2", port: 5001 }] }).replicaHosts[0].port,
            5001,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "ssh://h", bindAddress: "h" }] })[0],
            /^private-registry:replicaHosts\[0\]\.bindAddress must be an IPv4 or IPv6 address/,
        );
        assert.match(
            at({ replicaHosts: [{ dockerHost: "unix:///run/d.sock", address: "10.0.0.2", sshOpts: ["-v"] }] }).join("\n"),
            /replicaHosts\[0\]\.sshOpts applies only to an ssh:\/\//,
        );
        assert.match(at({ replicaHosts: [{ dockerHost: "ssh://h", ports: 1 }] })[0], /^private-registry:replicaHosts\[0\]\.ports/);
        assert.match(at({ replicaHosts: hosts, replicas: 3 })[0], /^private-registry:replicas is 3, but replicaHosts lists 2 hosts/);
        assert.match(
            at({ replicaHosts: Array.from({ length: 17 }, (_, i) => ({ dockerHost: `ssh://h${i}` })) }).join("\n"),
            /replicaHosts lists 17 hosts; at most 16/,
        );
    });

    it("refuses what runs on one host only (the program's Redis, scheduled GC) and filesystem storage unless the stack vouches for a shared path", () => {
        const at = (v: Record<string, unknown>) => problems({ replicaHosts: hosts, ...v }).join("\n");
        assert.match(at({ ...s3, redisCache: {} }), /^private-registry:redisCache runs Redis on the load balancer's Docker host.*give registry\.redis/m);
        assert.match(at({ ...s3, gcSchedule: {} }), /^private-registry:gcSchedule runs on one Docker host.*collect by hand/m);
        assert.match(at({}), /^private-registry:replicaHosts puts replicas on several Docker hosts, each with its own filesystem storage/m);
        assert.match(at({ data: { hostPath: "/srv/registry" } }), /^private-registry:replicaHosts puts replicas on several Docker hosts/m);
        assert.deepEqual(ok({ replicaHosts: hosts, data: { hostPath: "/mnt/nfs/registry", shared: true } }).data, {
            kind: "hostPath",
            hostPath: "/mnt/nfs/registry",
            shared: true,
        });
        assert.match(problems({ data: { volumeName: "v", shared: true } })[0], /^private-registry:data\.shared applies only with data\.hostPath/);
        assert.match(problems({ data: { hostPath: "/srv/r", shared: "yes" } })[0], /^private-registry:data\.shared must be true or false/);
    });
});

describe("redisCache", () => {
    it("a Redis run by the program, with its defaults or the stack's; it quiets the replicas' cache warning", () => {
        assert.equal(ok({}).redisCache, undefined);
        const s = ok({ replicas: 2, redisCache: {} });
        assert.deepEqual(s.redisCache, { image: "redis:7.4", memoryMb: 256 });
        assert.deepEqual(s.warnings, []);
        assert.deepEqual(ok({ redisCache: { image: "mirror.internal/redis:7.4", memoryMb: 64 } }).redisCache, {
            image: "mirror.internal/redis:7.4",
            memoryMb: 64,
        });
    });

    it("refuses it beside registry.redis, a bad image or memory, an unknown key", () => {
        assert.match(
            problems({ redisCache: {}, registry: { redis: { addrs: ["r:6379"] } } }).join("\n"),
            /redisCache and registry\.redis both give the registry a Redis/,
        );
        assert.match(problems({ redisCache: { image: "Redis" } })[0], /redisCache\.image must be an image reference/);
        assert.match(problems({ redisCache: { memoryMb: 4 } })[0], /redisCache\.memoryMb must be an integer 16-65536/);
        assert.match(problems({ redisCache: { persist: true } })[0], /redisCache\.persist/);
    });
});

describe("gcSchedule", () => {
    it("weekly with the docker CLI image by default; the stack's interval, image and --delete-untagged on 3.x", () => {
        assert.equal(ok({}).gcSchedule, undefined);
        assert.deepEqual(ok({ gcSchedule: {} }).gcSchedule, { intervalHours: 168, deleteUntagged: false, image: "docker:27-cli" });
        assert.deepEqual(ok({ gcSchedule: { intervalHours: 24, deleteUntagged: true, image: "mirror.internal/docker:27-cli" } }).gcSchedule, {
            intervalHours: 24,
            deleteUntagged: true,
            image: "mirror.internal/docker:27-cli",
        });
    });

    it("refuses --delete-untagged on 2.x, an interval outside 1-8760 hours, a bad image", () => {
        assert.match(
            problems({ image: "registry:2.8.3", gcSchedule: { deleteUntagged: true } })[0],
            /gcSchedule\.deleteUntagged is refused on distribution 2: .*distribution#3178/,
        );
        assert.match(problems({ gcSchedule: { intervalHours: 0 } })[0], /gcSchedule\.intervalHours must be an integer 1-8760/);
        assert.match(problems({ gcSchedule: { image: "Docker CLI" } })[0], /gcSchedule\.image must be an image reference/);
    });
});
