package notifications

// PeriodStart exposes periodStart to the external tests.
var PeriodStart = periodStart
