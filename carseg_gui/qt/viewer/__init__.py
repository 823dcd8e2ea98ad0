"""Page model, thumbnail/prediction loader, and the large image view."""
