"""The bulk import of voters (docs/voter-import.md): `service` runs one, `rows` reads and
checks its rows, `xlsx` reads spreadsheets, `store` writes to the registry in bulk, `jobs`
runs an import in the background for the web page, `views` is that page."""
