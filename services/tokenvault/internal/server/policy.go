package server

import (
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/authz"
)

// Policy says which workloads may call which tokenvault RPCs (which values
// a caller may see is decided per token by policy.yaml). Anything not listed
// is denied; pkg/service adds the health checks (open to every workload).
var Policy = authz.Policy{
	// Services that receive personal data tokenize it, and so does the
	// gateway for frontends (e.g. a checkout form).
	tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:     {"conversation", "identity", "consent", "crmsync", "gateway"},
	tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName: {"conversation", "identity", "consent", "crmsync", "gateway"},
	// Detokenize is open to the services at the RPC level; policy.yaml then
	// allows or denies each token by caller, purpose and data type.
	tokenvaultv1.TokenVaultService_Detokenize_FullMethodName:       {"conversation", "identity", "crmsync", "gateway"},
	tokenvaultv1.TokenVaultService_LookupToken_FullMethodName:      {"conversation", "identity", "consent", "crmsync"},
	tokenvaultv1.TokenVaultService_GetTokenMetadata_FullMethodName: {"conversation", "identity", "consent", "crmsync", "gateway"},
	// Data-subject requests run through the consent service.
	tokenvaultv1.TokenVaultService_EraseSubject_FullMethodName:  {"consent"},
	tokenvaultv1.TokenVaultService_ExportSubject_FullMethodName: {"consent"},
	// Key rotation is an operator action.
	tokenvaultv1.TokenVaultService_RotateKeys_FullMethodName: {"sotto-cli"},
}
