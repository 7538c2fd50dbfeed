"""Community activity: metrics over issue/PR history (CHAOSS definitions), charts, report."""
