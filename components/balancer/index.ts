/** The load balancer in front of several replicas: `LoadBalancer` and its `haproxy.cfg` (`haproxy.ts`, pure). */
export { type LoadBalancerModel, renderHaproxyConfig } from "./haproxy";
export { LoadBalancer, type LoadBalancerArgs } from "./loadBalancer";
