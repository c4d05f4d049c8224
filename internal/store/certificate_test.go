package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func newCertificate(account, name string) *Certificate {
	return &Certificate{
		AccountID: account, Name: name, DomainName: name + ".example.com", Status: "PENDING_VALIDATION",
		CreatedAt: testTime, Config: []byte(`{"subjectAlternativeNames":["` + name + `.example.com"]}`),
	}
}

func TestCertificates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		web, api := newCertificate("111111111111", "web"), newCertificate("111111111111", "api")
		mustTx(t, db, func(tx *Tx) error {
			for _, c := range []*Certificate{web, api, newCertificate("222222222222", "web")} {
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		got, err := db.GetCertificate(ctx, "111111111111", "web")
		if err != nil || !reflect.DeepEqual(got, web) {
			t.Fatalf("GetCertificate:\n got %+v, %v\nwant %+v", got, err, web)
		}
		list, err := db.ListCertificates(ctx, "111111111111", "", 0)
		if err != nil || !reflect.DeepEqual(list, []Certificate{*api, *web}) {
			t.Fatalf("ListCertificates = %+v, %v; want api, web", list, err)
		}

		web.Status, web.Config = "ISSUED", []byte(`{"issued":true}`)
		mustTx(t, db, func(tx *Tx) error { return tx.UpdateCertificate(ctx, web) })
		if got, err := db.GetCertificate(ctx, "111111111111", "web"); err != nil || !reflect.DeepEqual(got, web) {
			t.Fatalf("after update:\n got %+v, %v\nwant %+v", got, err, web)
		}

		cases := []struct {
			name string
			op   func(tx *Tx) error
			want error
		}{
			{"duplicate name", func(tx *Tx) error { return tx.InsertCertificate(ctx, newCertificate("111111111111", "web")) }, ErrExists},
			{"duplicate id", func(tx *Tx) error {
				c := newCertificate("111111111111", "fresh")
				c.ID = web.ID
				return tx.InsertCertificate(ctx, c)
			}, ErrExists},
			{"get missing", func(tx *Tx) error {
				_, err := tx.GetCertificate(ctx, "111111111111", "nope")
				return err
			}, ErrNotFound},
			{"update missing", func(tx *Tx) error { return tx.UpdateCertificate(ctx, &Certificate{ID: "nope"}) }, ErrNotFound},
			{"delete missing", func(tx *Tx) error { return tx.DeleteCertificate(ctx, "nope", testTime) }, ErrNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := db.Tx(ctx, tc.op); !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
			})
		}

		t.Run("soft delete frees the name", func(t *testing.T) {
			mustTx(t, db, func(tx *Tx) error { return tx.DeleteCertificate(ctx, web.ID, testTime.Add(time.Hour)) })
			if _, err := db.GetCertificate(ctx, "111111111111", "web"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted certificate still found: %v", err)
			}
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateCertificate(ctx, web) }); !errors.Is(err, ErrNotFound) {
				t.Errorf("update of a deleted certificate: err %v, want ErrNotFound", err)
			}
			again := newCertificate("111111111111", "web")
			mustTx(t, db, func(tx *Tx) error { return tx.InsertCertificate(ctx, again) })
			if got, err := db.GetCertificate(ctx, "111111111111", "web"); err != nil || got.ID != again.ID {
				t.Fatalf("re-created certificate: %+v, %v", got, err)
			}
		})
	})
}

func TestCertificateMaterialAndLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		c := newCertificate("111111111111", "web")
		c.NextCheckAt = testTime
		later := newCertificate("111111111111", "later")
		later.NextCheckAt = testTime.Add(time.Hour)
		mustTx(t, db, func(tx *Tx) error {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
			return tx.InsertCertificate(ctx, later)
		})
		due, err := db.DueCertificates(ctx, testTime, 10)
		if err != nil || len(due) != 1 || due[0].ID != c.ID {
			t.Fatalf("DueCertificates = %+v, %v; want only web", due, err)
		}
		gen0, _ := db.ConfigGeneration(ctx)

		// A status change alone is no edge business: the generation stays.
		c.Status, c.NextCheckAt = "PENDING_VALIDATION", testTime.Add(time.Minute)
		mustTx(t, db, func(tx *Tx) error { return tx.UpdateCertificate(ctx, c) })
		if gen, _ := db.ConfigGeneration(ctx); gen != gen0 {
			t.Fatalf("generation moved on a status change: %d → %d", gen0, gen)
		}
		// Issuing (a new chain) is: every edge must swap the certificate in.
		c.Status, c.ChainPEM, c.SealedKey = "ISSUED", "-----BEGIN CERTIFICATE-----", "v1:sealed"
		mustTx(t, db, func(tx *Tx) error { return tx.UpdateCertificate(ctx, c) })
		gen1, _ := db.ConfigGeneration(ctx)
		if gen1 == gen0 {
			t.Fatal("generation did not move when the chain changed")
		}
		got, err := db.GetCertificate(ctx, "111111111111", "web")
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %+v, %v\nwant %+v", got, err, c)
		}
		page, err := db.ListCertificates(ctx, "111111111111", "later", 1)
		if err != nil || len(page) != 1 || page[0].Name != "web" {
			t.Fatalf("ListCertificates after %q = %+v, %v", "later", page, err)
		}
	})
}

func TestPKI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		if _, err := db.GetPKI(ctx, "root"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetPKI on an empty store: %v, want ErrNotFound", err)
		}
		first := &PKIEntry{Name: "root", ChainPEM: "A", SealedKey: "a", IssuedAt: testTime, UpdatedAt: testTime}
		second := &PKIEntry{Name: "root", ChainPEM: "B", SealedKey: "b", IssuedAt: testTime, UpdatedAt: testTime}
		var won []bool
		for _, e := range []*PKIEntry{first, second} {
			mustTx(t, db, func(tx *Tx) error {
				ok, err := tx.InsertPKIIfAbsent(ctx, e)
				won = append(won, ok)
				return err
			})
		}
		if !reflect.DeepEqual(won, []bool{true, false}) {
			t.Fatalf("InsertPKIIfAbsent won %v, want [true false]", won)
		}
		if got, err := db.GetPKI(ctx, "root"); err != nil || !reflect.DeepEqual(got, first) {
			t.Fatalf("GetPKI = %+v, %v; want the first entry", got, err)
		}
		gen0, _ := db.ConfigGeneration(ctx)
		mustTx(t, db, func(tx *Tx) error {
			if _, err := tx.GetPKIForUpdate(ctx, "root"); err != nil {
				return err
			}
			return tx.PutPKI(ctx, second)
		})
		if got, err := db.GetPKI(ctx, "root"); err != nil || !reflect.DeepEqual(got, second) {
			t.Fatalf("after PutPKI = %+v, %v", got, err)
		}
		if gen, _ := db.ConfigGeneration(ctx); gen == gen0 {
			t.Fatal("PutPKI did not move the generation")
		}
	})
}
