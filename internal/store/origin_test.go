package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestOrigins(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		web := Origin{Name: "web", RegionName: "us-east-1", ResourceType: "Instance", URL: "http://127.0.0.1:8081", CreatedAt: testTime}
		bucket := Origin{Name: "assets", RegionName: "eu-west-1", ResourceType: "Bucket", URL: "http://127.0.0.1:8082", CreatedAt: testTime}
		for _, o := range []Origin{web, bucket} {
			if err := db.PutOrigin(ctx, o); err != nil {
				t.Fatalf("PutOrigin: %v", err)
			}
		}
		got, err := db.GetOrigin(ctx, "us-east-1", "web")
		want := web
		want.CreatedAt = normalize(want.CreatedAt)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("GetOrigin = %+v, %v; want %+v", got, err, want)
		}

		// Put again: URL and type change, CreatedAt stays that of the first Put.
		moved := web
		moved.URL, moved.ResourceType, moved.CreatedAt = "http://127.0.0.1:9000", "LoadBalancer", testTime.Add(time.Hour)
		if err := db.PutOrigin(ctx, moved); err != nil {
			t.Fatal(err)
		}
		got, err = db.GetOrigin(ctx, "us-east-1", "web")
		want.URL, want.ResourceType = moved.URL, moved.ResourceType
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("after upsert: %+v, %v; want %+v", got, err, want)
		}

		list, err := db.ListOrigins(ctx)
		if err != nil || len(list) != 2 || list[0].RegionName != "eu-west-1" || list[1].Name != "web" {
			t.Fatalf("ListOrigins = %+v, %v; want eu-west-1/assets then us-east-1/web", list, err)
		}
		for _, key := range [][2]string{{"us-east-1", "nope"}, {"eu-west-1", "web"}} {
			if _, err := db.GetOrigin(ctx, key[0], key[1]); !errors.Is(err, ErrNotFound) {
				t.Errorf("GetOrigin(%s/%s): err %v, want ErrNotFound", key[0], key[1], err)
			}
		}
	})
}
