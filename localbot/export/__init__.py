"""Writing rows out for spreadsheets, R and map tools: streamed, and safe to open in Excel."""
