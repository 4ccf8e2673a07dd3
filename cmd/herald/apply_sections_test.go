package main

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/notifications"
)

// TestApplyHelpNamesEverySection: `herald apply -h` names every section a
// configuration file may have, so a new one cannot be left out again.
func TestApplyHelpNamesEverySection(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"apply", "-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	help := errOut.String()
	typ := reflect.TypeFor[notifications.Catalog]()
	for i := range typ.NumField() {
		section, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		if !strings.Contains(catalogSections, section) || !strings.Contains(help, section) {
			t.Errorf("apply's help does not name the section %q:\n%s", section, help)
		}
	}
}
