/**
 * components/registry/registryTopology.ts: the registry's topology from its arguments alone (pure), the
 * plan `Registry` builds its resources from.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planTopology, type TopologyInput } from "../../../components/registry/registryTopology";

const base: TopologyInput = {
    name: "reg",
    containerName: "r",
    port: 5000,
    debugPort: 5001,
    publishDebugPort: false,
    bindAddress: "127.0.0.1",
    replicaHosts: [],
    data: "volume",
    loadBalancer: false,
    redisCache: false,
    gcSchedule: false,
    dockerCli: true,
};

describe("planTopology", () => {
    it("one replica publishes its port (and a published debug server on loopback, on a network of its own), and retires a left balancer", () => {
        const t = planTopology({ ...base, publishDebugPort: true });
        assert.deepEqual(t, {
            replicas: 1,
            balanced: false,
            replicaNetwork: false,
            retireBalancer: true,
            placements: [
                {
                    prefix: "reg",
                    privateNetwork: true,
                    replicas: [
                        {
                            resourceName: "reg-container",
                            containerName: "r",
                            ports: [
                                { internal: 5000, external: 5000, ip: "127.0.0.1" },
                                { internal: 5001, external: 5001, ip: "127.0.0.1" },
                            ],
                            networks: [],
                        },
                    ],
                },
            ],
        });
        const onNetworks = planTopology({ ...base, publishDebugPort: true, networks: [{ name: "edge", ipv4Address: "10.0.0.2" }] });
        assert.equal(onNetworks.placements[0].privateNetwork, false, "on the operator's networks: no private one");
        assert.deepEqual(onNetworks.placements[0].replicas[0].networks, [{ name: "edge", ipv4Address: "10.0.0.2", aliases: undefined }]);
        assert.equal(planTopology({ ...base, dockerCli: false }).retireBalancer, false, "without the Docker host's CLI settings, nothing to run it with");
    });

    it("several replicas on this host: none publishes, each on the replicas' network only, a balancer in front, nothing retired", () => {
        const t = planTopology({ ...base, replicas: 3, loadBalancer: true, networks: [{ name: "edge" }] });
        assert.equal(t.balanced, true);
        assert.equal(t.replicaNetwork, true);
        assert.equal(t.retireBalancer, false);
        assert.deepEqual(
            t.placements[0].replicas.map((r) => [r.resourceName, r.containerName, r.ports, r.networks]),
            [
                ["reg-container", "r", [], ["replicas"]],
                ["reg-container-2", "r-2", [], ["replicas"]],
                ["reg-container-3", "r-3", [], ["replicas"]],
            ],
        );
    });

    it("replica hosts: one replica each, published on its host's address, its own placement", () => {
        const t = planTopology({
            ...base,
            data: "hostPath",
            loadBalancer: true,
            replicaHosts: [
                { host: "ssh://a", port: 5000, bindAddress: "10.0.0.11" },
                { host: "ssh://b", port: 5443, bindAddress: "10.0.0.12" },
            ],
        });
        assert.equal(t.replicas, 2);
        assert.equal(t.replicaNetwork, false);
        assert.equal(t.retireBalancer, false);
        assert.deepEqual(
            t.placements.map((p) => [p.prefix, p.hostIndex, p.replicas[0].resourceName, p.replicas[0].ports]),
            [
                ["reg-replica-ssh://a", 0, "reg-replica-ssh://a-container", [{ internal: 5000, external: 5000, ip: "10.0.0.11" }]],
                ["reg-replica-ssh://b", 1, "reg-replica-ssh://b-container", [{ internal: 5000, external: 5443, ip: "10.0.0.12" }]],
            ],
        );
    });

    it("one replica with the program's Redis joins the replicas' network beside its own", () => {
        const t = planTopology({ ...base, redisCache: true, networks: [{ name: "edge" }] });
        assert.deepEqual(t.placements[0].replicas[0].networks, [{ name: "edge", ipv4Address: undefined, aliases: undefined }, "replicas"]);
    });

    it("refuses what cannot work, saying why", () => {
        const hosts = [{ host: "ssh://a", port: 5000, bindAddress: "10.0.0.11" }];
        assert.throws(() => planTopology({ ...base, replicaHosts: hosts, loadBalancer: true }), /cannot share a named volume/);
        assert.throws(() => planTopology({ ...base, replicas: 2 }), /several replicas need a load balancer/);
        assert.throws(
            () => planTopology({ ...base, data: "hostPath", replicaHosts: hosts, loadBalancer: true, gcSchedule: true }),
            /not with replicas on other hosts/,
        );
    });
});
