"""hookwire for Django projects."""
