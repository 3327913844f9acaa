// Container images of the workload, pinned in one place. On the local target nothing pulls
// them (kwok runs no containers); on AWS the nodes pull them from the Kubernetes project's
// own registry.

/**
 * The last ingress-nginx release (controller-v1.15.1, published together with the final
 * v1.14.5 and v1.13.9 patches; supports Kubernetes 1.31–1.35). ingress-nginx is
 * end-of-life since March 2026: there will be no further security fixes. Pinned by digest
 * as in the project's own manifests.
 */
export const NGINX_CONTROLLER_VERSION = "v1.15.1";
export const NGINX_CONTROLLER_IMAGE =
  "registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1";

/**
 * agnhost `netexec`: the Kubernetes project's own test server (built and published with
 * every Kubernetes release cycle, multi-arch, and the image the kubernetes.io tutorials use).
 * It answers any path with 200, which is what the traffic through `/echoserver` needs. The
 * tutorial's gcr echoserver image has been unmaintained for years.
 */
export const ECHO_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53";
