/** The tls and random resources this project computes locally, by Pulumi type token. */
import { randomId, randomPassword } from "./random";
import { certRequest, locallySignedCert, privateKey, selfSignedCert, type Realized } from "./tls";

export type { Realized } from "./tls";

/** Type token → the function computing that resource's outputs from its inputs. */
export const OFFLINE_REALIZERS: Record<string, (inputs: Record<string, any>) => Realized | Promise<Realized>> = {
    "tls:index/privateKey:PrivateKey": privateKey,
    "tls:index/selfSignedCert:SelfSignedCert": selfSignedCert,
    "tls:index/certRequest:CertRequest": certRequest,
    "tls:index/locallySignedCert:LocallySignedCert": locallySignedCert,
    "random:index/randomPassword:RandomPassword": randomPassword,
    "random:index/randomId:RandomId": randomId,
};
