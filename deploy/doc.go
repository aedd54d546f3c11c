// Package deploy holds no code of its own: its tests check the deploy/ tree
// offline (container image definitions, the Kubernetes manifests rendered by
// kustomize, and the Vault Kubernetes auth roles) against the service
// manifest, pkg/suite/services.yaml.
package deploy
