"""Posts: render records into the day's post, import old posts, sync edits back."""
