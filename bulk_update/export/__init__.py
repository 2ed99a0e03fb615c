"""Live opportunities written as a sheet the tool reads back: selection, columns, the file sinks."""
