"""Back-flow import: reading county exports (xlsx, xls, csv) and finding the table inside them."""
