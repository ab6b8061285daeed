"""Annual monitoring and early warning on the web: each province's series and warnings computed in the background
from the stored results of all years (a snapshot), the monitoring pages of the nation, a province or prefecture and
a county, and the warnings on the responsible levels' to-do lists."""
