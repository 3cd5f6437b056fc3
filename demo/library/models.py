"""A small catalogue whose fields cover the common Django field types."""

import uuid

from django.db import models
from django.urls import reverse


class Author(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField()
    birth_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=60)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Book(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField()
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    pages = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=6, decimal_places=2)
    rating = models.FloatField(null=True, blank=True)
    in_print = models.BooleanField(default=True)
    published = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    isbn = models.UUIDField(default=uuid.uuid4, unique=True)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    tags = models.ManyToManyField(Tag, blank=True, related_name="books")
    cover = models.FileField(upload_to="covers/", blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    reading_time = models.DurationField(null=True, blank=True)
    website = models.URLField(blank=True)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("library:book-detail", args=[self.pk])
