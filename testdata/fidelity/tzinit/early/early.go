// Package early reads the local time zone during package initialisation, as some logging
// libraries do. Its import path sorts before time/tzdata, and Go initialises packages in
// import-path order, so this runs before time/tzdata has registered its embedded database.
package early

import "time"

// Zone is the abbreviation of the local zone at 2026-01-01 12:00 UTC, read during init.
var Zone = time.Unix(1767268800, 0).Local().Format("MST")
