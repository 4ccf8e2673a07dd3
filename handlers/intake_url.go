package handlers

// IncidentURL is an incident's page (HERALD_BASE_URL/incidents/N), for
// the answers of the incidents API.
func (in *Intake) IncidentURL(number int64) string {
	return in.d.Settings.BaseURL + "/incidents/" + itoa(number)
}
