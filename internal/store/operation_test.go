package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestOperations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		// Interleave accounts, Regions and resources so the filters have something to filter.
		specs := []struct{ account, region, resource string }{
			{"111111111111", "us-east-1", "web"}, {"222222222222", "us-east-1", "web"}, {"111111111111", "us-east-1", "api"},
			{"111111111111", "us-east-1", "web"}, {"111111111111", "us-east-1", "api"}, {"111111111111", "us-east-1", "web"},
			{"111111111111", "eu-west-1", "web"},
		}
		var ops []*Operation
		mustTx(t, db, func(tx *Tx) error {
			for i, s := range specs {
				o := &Operation{
					AccountID: s.account, ResourceName: s.resource, ResourceType: "Distribution",
					OperationType: "CreateDistribution", Status: "Started", RegionName: s.region,
					AvailabilityZone: "all", OperationDetails: s.resource,
					CreatedAt: testTime.Add(time.Duration(i) * time.Second), StatusChangedAt: testTime,
				}
				if err := tx.InsertOperation(ctx, o); err != nil {
					return err
				}
				if len(ops) > 0 && o.Seq <= ops[len(ops)-1].Seq {
					t.Errorf("Seq %d after %d: not increasing", o.Seq, ops[len(ops)-1].Seq)
				}
				ops = append(ops, o)
			}
			return nil
		})

		here := Place{AccountID: "111111111111", Region: "us-east-1"}
		t.Run("round trip, account and Region scoping", func(t *testing.T) {
			got, err := db.GetOperation(ctx, here, ops[0].ID)
			if err != nil || !reflect.DeepEqual(got, ops[0]) {
				t.Fatalf("GetOperation:\n got %+v, %v\nwant %+v", got, err, ops[0])
			}
			if _, err := db.GetOperation(ctx, Place{AccountID: "222222222222", Region: "us-east-1"}, ops[0].ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("GetOperation from another account: err %v, want ErrNotFound", err)
			}
			if _, err := db.GetOperation(ctx, Place{AccountID: "111111111111", Region: "eu-west-1"}, ops[0].ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("GetOperation from another Region: err %v, want ErrNotFound", err)
			}
			if got, err := db.GetOperation(ctx, Place{AccountID: "111111111111", Region: "eu-west-1"}, ops[6].ID); err != nil || got.ID != ops[6].ID {
				t.Errorf("GetOperation in its own Region: %v", err)
			}
		})

		account1 := []*Operation{ops[0], ops[2], ops[3], ops[4], ops[5]}
		web1 := []*Operation{ops[0], ops[3], ops[5]}
		cases := []struct {
			name     string
			resource string // "" = ListOperations
			afterSeq int64
			limit    int
			want     []*Operation
		}{
			{"all of account", "", 0, 0, account1},
			{"first page", "", 0, 2, account1[:2]},
			{"next page", "", account1[1].Seq, 2, account1[2:4]},
			{"last page", "", account1[3].Seq, 2, account1[4:]},
			{"past the end", "", account1[4].Seq, 2, nil},
			{"resource all", "web", 0, 0, web1},
			{"resource paged", "web", web1[0].Seq, 1, web1[1:2]},
			{"unknown resource", "nope", 0, 0, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var got []Operation
				var err error
				if tc.resource == "" {
					got, err = db.ListOperations(ctx, here, tc.afterSeq, tc.limit)
				} else {
					got, err = db.ListOperationsForResource(ctx, here, tc.resource, tc.afterSeq, tc.limit)
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %d operations, want %d", len(got), len(tc.want))
				}
				for i := range got {
					if !reflect.DeepEqual(&got[i], tc.want[i]) {
						t.Errorf("[%d]:\n got %+v\nwant %+v", i, got[i], *tc.want[i])
					}
				}
			})
		}

		t.Run("update", func(t *testing.T) {
			o := *ops[1]
			o.Status, o.IsTerminal, o.StatusChangedAt = "Failed", true, testTime.Add(time.Hour)
			o.ErrorCode, o.ErrorDetails = "InternalError", "origin unreachable"
			mustTx(t, db, func(tx *Tx) error { return tx.UpdateOperation(ctx, &o) })
			got, err := db.GetOperation(ctx, Place{AccountID: o.AccountID, Region: o.RegionName}, o.ID)
			if err != nil || !reflect.DeepEqual(got, &o) {
				t.Fatalf("after update:\n got %+v, %v\nwant %+v", got, err, o)
			}
		})

		t.Run("update missing", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateOperation(ctx, &Operation{ID: "nope"}) })
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err %v, want ErrNotFound", err)
			}
		})

		t.Run("duplicate id", func(t *testing.T) {
			// No pre-check covers ids: this is the driver's primary-key violation, mapped.
			err := db.Tx(ctx, func(tx *Tx) error {
				dup := *ops[0]
				return tx.InsertOperation(ctx, &dup)
			})
			if !errors.Is(err, ErrExists) {
				t.Fatalf("err %v, want ErrExists", err)
			}
		})
	})
}
