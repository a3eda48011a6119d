"""Services: load data, call the engines, persist results. All I/O lives here and in store/."""
