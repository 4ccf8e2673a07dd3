package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// quietTrace skips gorm's Trace for statements that will not be logged:
// gorm's slog logger renders every statement's SQL before it decides
// whether to log it, which cost a busy engine about a sixth of its CPU.
type quietTrace struct {
	logger.Interface
	level          logger.LogLevel
	slow           time.Duration
	ignoreNotFound bool
}

func (q quietTrace) LogMode(l logger.LogLevel) logger.Interface {
	q.Interface, q.level = q.Interface.LogMode(l), l
	return q
}

func (q quietTrace) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if q.level < logger.Info && (err == nil || (q.ignoreNotFound && errors.Is(err, gorm.ErrRecordNotFound))) &&
		(q.slow == 0 || time.Since(begin) <= q.slow) {
		return
	}
	q.Interface.Trace(ctx, begin, fc, err)
}
