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
		list, err := db.ListCertificates(ctx, "111111111111")
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
