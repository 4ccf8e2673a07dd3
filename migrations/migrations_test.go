package migrations_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
)

// storedModels are the models Herald reads and writes through gorm.
var storedModels = []any{
	&models.Incident{},
	&models.ExternalUser{},
	&models.CommsChannel{},
	&models.HeadlinePost{},
	&models.TimelineEvent{},
	&models.SlackEventReceipt{},
	&models.Job{},
	&models.IncidentRole{},
	&models.ActionItem{},
	&models.Participant{},
	&models.KeywordCooldown{},
	&models.AuditEntry{},
	&models.RecurringNotification{},
	&models.Person{},
	&models.ContactMethod{},
	&models.Team{},
	&models.TeamMember{},
	&models.OncallAssignment{},
	&models.PriorityMode{},
	&models.Plan{},
	&models.PlanVersion{},
	&models.MessageTemplate{},
	&models.Service{},
	&models.Integration{},
	&models.IntegrationService{},
	&models.Escalation{},
	&models.Message{},
	&models.MessageChange{},
	&models.ClaimToken{},
	&models.RateLimit{},
	&models.MaintenanceWindow{},
	&models.Heartbeat{},
	&models.IrisIncident{},
	&models.IncidentAlert{},
	&models.APIAnswer{},
	&models.Schedule{},
	&models.Rotation{},
	&models.RotationMember{},
	&models.ScheduleOverride{},
	&models.TimeOff{},
	&models.WebUser{},
	&models.WebTeamAdmin{},
	&models.WebSession{},
	&models.WebLoginToken{},
	&models.DeadManRun{},
	&models.OncallAnnouncement{},
	&models.OncallSummary{},
	&models.CalendarToken{},
	&models.IncidentReview{},
}

// nullableTypes scan SQL NULL without error.
var nullableTypes = map[reflect.Type]bool{
	reflect.TypeOf(models.EncryptedString{}): true,
}

func TestSchemaMatchesModels(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, nil, func(t *testing.T, db *testdb.DB) {
		m := db.Gorm.Migrator()
		cache := &sync.Map{}
		for _, model := range storedModels {
			s, err := schema.Parse(model, cache, db.Gorm.NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			if !m.HasTable(model) {
				t.Errorf("table %s (%s) is missing", s.Table, s.Name)
				continue
			}
			cols, err := m.ColumnTypes(model)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]gorm.ColumnType{}
			for _, c := range cols {
				byName[c.Name()] = c
			}
			for _, f := range s.Fields {
				if f.DBName == "" {
					continue // a relation, not a column
				}
				if !m.HasColumn(model, f.DBName) {
					t.Errorf("column %s.%s (%s.%s) is missing", s.Table, f.DBName, s.Name, f.Name)
					continue
				}
				c := byName[f.DBName]
				nullable, ok := c.Nullable()
				if !ok || f.PrimaryKey {
					continue
				}
				// A nullable column read into a plain Go value fails on the
				// first NULL; a nil pointer written to a NOT NULL one fails.
				goNullable := f.FieldType.Kind() == reflect.Pointer || nullableTypes[f.FieldType]
				if nullable && !goNullable {
					t.Errorf("%s.%s is nullable but %s.%s is %s", s.Table, f.DBName, s.Name, f.Name, f.FieldType)
				}
				if !nullable && f.FieldType.Kind() == reflect.Pointer {
					t.Errorf("%s.%s is NOT NULL but %s.%s is %s", s.Table, f.DBName, s.Name, f.Name, f.FieldType)
				}
			}
			// A column the model does not know must fill itself on insert.
			for _, c := range cols {
				if _, ok := s.FieldsByDBName[c.Name()]; ok {
					continue
				}
				nullable, _ := c.Nullable()
				if _, hasDefault := c.DefaultValue(); !nullable && !hasDefault {
					t.Errorf("column %s.%s is NOT NULL without a default, and %s has no field for it: inserts fail", s.Table, c.Name(), s.Name)
				}
			}
		}
	})
}

func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, nil, func(t *testing.T, db *testdb.DB) {
		sqlDB, err := db.Gorm.DB()
		if err != nil {
			t.Fatal(err)
		}
		d := migrations.Dialect(db.Dialect)
		if pending, err := migrations.Pending(ctx, sqlDB, d); err != nil || pending {
			t.Errorf("after Up: pending = %v, %v; want false", pending, err)
		}
		if n, err := migrations.Up(ctx, sqlDB, d, nil); err != nil || n != 0 {
			t.Errorf("second Up applied %d, %v; want 0", n, err)
		}
		current, target, err := migrations.Version(ctx, sqlDB, d)
		if err != nil || current != target || target < 1 {
			t.Errorf("version %d of %d, %v; want current = target >= 1", current, target, err)
		}
	})
}

func TestUpOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, nil, func(t *testing.T, db *testdb.DB) {
		// An empty database next to the migrated one: a fresh SQLite file,
		// or a fresh Postgres schema first on the search path.
		opts := models.OpenOptions{Cipher: db.Cipher}
		if db.Dialect == models.DialectPostgres {
			if err := db.Gorm.Exec("CREATE SCHEMA fresh").Error; err != nil {
				t.Fatal(err)
			}
			opts.PostgresURL = db.URL + "&search_path=fresh"
		} else {
			opts.SQLitePath = filepath.Join(t.TempDir(), "fresh.db")
		}
		g, err := models.Open(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = models.Close(g) })
		sqlDB, err := g.DB()
		if err != nil {
			t.Fatal(err)
		}
		d := migrations.Dialect(db.Dialect)

		if pending, err := migrations.Pending(ctx, sqlDB, d); err != nil || !pending {
			t.Fatalf("empty database: pending = %v, %v; want true", pending, err)
		}
		if g.Migrator().HasTable("incidents") {
			t.Fatal("the empty database already has tables: the test is not isolated")
		}
		files, err := migrations.Files(d)
		if err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(files, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := migrations.Up(ctx, sqlDB, d, nil); err != nil || n != len(names) {
			t.Fatalf("Up applied %d, %v; want %d", n, err, len(names))
		}
		if n, err := migrations.Up(ctx, sqlDB, d, nil); err != nil || n != 0 {
			t.Errorf("second Up applied %d, %v; want 0", n, err)
		}
		if pending, err := migrations.Pending(ctx, sqlDB, d); err != nil || pending {
			t.Errorf("after Up: pending = %v, %v; want false", pending, err)
		}
		// The migrated schema works: the counter row is there.
		if _, _, err := models.NewStore(g, nil).CreateIncident(ctx, models.NewIncident{Title: "t"}); err != nil {
			t.Errorf("creating an incident on the migrated database: %v", err)
		}
	})
}

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	t.Parallel()
	var names [][]string
	for _, d := range []migrations.Dialect{migrations.Postgres, migrations.SQLite} {
		files, err := migrations.Files(d)
		if err != nil {
			t.Fatal(err)
		}
		n, err := fs.Glob(files, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(n) == 0 {
			t.Fatalf("no %s migrations", d)
		}
		names = append(names, n)
	}
	if !slices.Equal(names[0], names[1]) {
		t.Errorf("postgres migrations %v differ from sqlite ones %v", names[0], names[1])
	}
	if _, err := migrations.Files("mysql"); !errors.Is(err, migrations.ErrUnknownDialect) {
		t.Errorf("Files(mysql): err = %v, want ErrUnknownDialect", err)
	}
}
