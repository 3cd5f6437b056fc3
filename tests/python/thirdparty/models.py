from django.db import models
from taggit.managers import TaggableManager


class Bookmark(models.Model):
    """Something taggit's TaggableManager is used on, so its form field and TaggedItem rows
    take part (taggit registers only its own `Tag` admin)."""

    title = models.CharField(max_length=100)
    url = models.URLField()
    tags = TaggableManager(blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title
