package httpapi

import (
	"fmt"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/selfaudit"
	"github.com/labstack/echo/v4"
)

// selfAudit records ev into the tenant's stream (package selfaudit). It
// cannot fail the request: the recorder keeps what it could not store.
func (s *Server) selfAudit(c echo.Context, ev audit.Event) {
	s.cfg.SelfAudit.Record(c.Request().Context(), ev)
}

func (s *Server) actorEvent(c echo.Context, eventType, subType, subject, description string, meta map[string]string) audit.Event {
	k := keyOf(c)
	return selfaudit.Event(k.TenantID, eventType, subType, subject, selfaudit.KeyActor(k), s.cfg.Now(), description, meta)
}

func (s *Server) auditKeyCreated(c echo.Context, k audit.APIKey) audit.Event {
	scopes := ""
	for i, sc := range k.Scopes {
		if i > 0 {
			scopes += " "
		}
		scopes += string(sc)
	}
	return s.actorEvent(c, "api_key", "created", k.ID, fmt.Sprintf("API key %q created with scopes %s", k.Name, scopes),
		map[string]string{"key_id": k.ID, "key_name": k.Name, "scopes": scopes})
}

func (s *Server) auditKeyRevoked(c echo.Context, id string) audit.Event {
	return s.actorEvent(c, "api_key", "revoked", id, "API key "+id+" revoked", map[string]string{"key_id": id})
}
