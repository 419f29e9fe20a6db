package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/auditsentinel/sentinel/internal/secretbox"
)

// WithSecretBox returns a DB on the same pools that seals the secrets it
// writes (the keys webhooks are signed with) with box and opens those it
// reads, so that a copy of the database alone does not reveal them; nil
// stores them as they are and refuses to read sealed ones. db itself is
// unchanged: a handle never starts reading differently under a caller that
// already holds it. The two share the pools, so close only one of them.
func (db *DB) WithSecretBox(box *secretbox.Box) *DB {
	c := *db
	c.box = box
	return &c
}

// Row contexts: a sealed secret opens only in the row it was sealed for.
func tenantSecretContext(tenantID string) string {
	return "tenant_webhook_secrets\x00" + tenantID
}

func scheduleSecretContext(tenantID, scheduleID string) string {
	return "schedules.webhook_secret\x00" + tenantID + "\x00" + scheduleID
}

func (db *DB) sealSecret(plain, context string) (string, error) {
	if db.box == nil || plain == "" {
		return plain, nil
	}
	s, err := db.box.Seal(plain, context)
	if err != nil {
		return "", fmt.Errorf("sqlstore: seal secret: %w", err)
	}
	return s, nil
}

// errNoSecretsKey is returned for a sealed secret when no box is set.
var errNoSecretsKey = errors.New("sqlstore: the secret is sealed and SECRETS_KEY is not configured")

func (db *DB) openSecret(stored, context string) (string, error) {
	if db.box == nil {
		if secretbox.IsSealed(stored) {
			return "", errNoSecretsKey
		}
		return stored, nil
	}
	s, err := db.box.Open(stored, context)
	if err != nil {
		return "", fmt.Errorf("sqlstore: open secret: %w", err)
	}
	return s, nil
}

// SealStoredSecrets seals, in place, the secrets stored before a box was
// set (WithSecretBox) or sealed under a key the box holds as retired,
// and returns how many it sealed and how many it could not open (sealed
// under a key the box does not hold: they are left as they are, and their
// webhooks fail visibly until that key is configured or the secrets are
// rotated; one such row must not keep the service from starting). Each
// row is a compare-and-set on the value it read, so processes starting
// together seal every row once. It does nothing without a box.
func (db *DB) SealStoredSecrets(ctx context.Context) (sealed, unopened int, err error) {
	if db.box == nil {
		return 0, 0, nil
	}
	type row struct{ tenant, id, secret string }
	for _, t := range []struct {
		op, sel, upd string
		context      func(row) string
	}{
		{
			op:      "seal tenant webhook secrets",
			sel:     `SELECT tenant_id, '', secret FROM tenant_webhook_secrets WHERE secret NOT LIKE $1`,
			upd:     `UPDATE tenant_webhook_secrets SET secret = $1 WHERE tenant_id = $2 AND secret = $3`,
			context: func(r row) string { return tenantSecretContext(r.tenant) },
		},
		{
			op:      "seal schedule webhook secrets",
			sel:     `SELECT tenant_id, id, webhook_secret FROM schedules WHERE webhook_secret <> '' AND webhook_secret NOT LIKE $1`,
			upd:     `UPDATE schedules SET webhook_secret = $1 WHERE tenant_id = $2 AND webhook_secret = $3 AND id = $4`,
			context: func(r row) string { return scheduleSecretContext(r.tenant, r.id) },
		},
	} {
		rows, err := queryAll(ctx, db, t.op, t.sel, func(sc scanner) (row, error) {
			var r row
			return r, sc.Scan(&r.tenant, &r.id, &r.secret)
		}, db.box.SealedPrefix()+"%")
		if err != nil {
			return sealed, unopened, err
		}
		for _, r := range rows {
			plain, err := db.openSecret(r.secret, t.context(r))
			if err != nil {
				unopened++
				continue
			}
			s, err := db.sealSecret(plain, t.context(r))
			if err != nil {
				return sealed, unopened, err
			}
			args := []any{s, r.tenant, r.secret}
			if r.id != "" {
				args = append(args, r.id)
			}
			res, err := db.w.ExecContext(ctx, t.upd, args...)
			if err != nil {
				return sealed, unopened, db.wrap(t.op, err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				sealed++
			}
		}
	}
	return sealed, unopened, nil
}
