package app

import "fmt"

// Role is what a node serves. Nodes of every role share one store; a fleet runs API nodes and edge
// nodes (docs/decisions.md, "Roles and health").
type Role string

const (
	// RoleAll serves the API and viewers in one process: the default, and what --dev runs.
	RoleAll Role = "all"
	// RoleAPI serves the Lightsail API, the console and the admin endpoints, and runs the quota
	// watcher; it serves no viewers (no edge listener, no meter, no configuration loader).
	RoleAPI Role = "api"
	// RoleEdge serves viewers on its edge port(s), and /healthz, /readyz and /metrics on its admin
	// port; it opens no API port.
	RoleEdge Role = "edge"
)

// ParseRole parses --role.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAll, RoleAPI, RoleEdge:
		return r, nil
	}
	return "", fmt.Errorf("--role %q: want all, api or edge", s)
}

// ServesAPI reports whether nodes of role r open the API port.
func (r Role) ServesAPI() bool { return r == RoleAll || r == RoleAPI }

// ServesEdge reports whether nodes of role r serve viewers.
func (r Role) ServesEdge() bool { return r == RoleAll || r == RoleEdge }
