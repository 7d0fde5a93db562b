/**
 * A chain on Kubernetes: {@link dev.tally.testbed.k8s.K8sManifests} writes its genesis, node configs, secret keys and a
 * kustomize base (behind {@code tally deploy k8s}); {@link dev.tally.testbed.k8s.KeyInstaller} copies a pod's keys out
 * of their Secret at start (behind {@code tally deploy install-keys}). DEPLOY.md is the operator's guide.
 */
package dev.tally.testbed.k8s;
