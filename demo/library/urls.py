from django.urls import path, register_converter
from django.views.generic import RedirectView, TemplateView

from . import views
from .converters import FourDigitYearConverter

app_name = "library"

register_converter(FourDigitYearConverter, "yyyy")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="library:book-list"), name="home"),
    path("about/", TemplateView.as_view(template_name="library/about.html"), name="about"),
    path("books/", views.BookListView.as_view(), name="book-list"),
    path("books/<int:pk>/", views.BookDetailView.as_view(), name="book-detail"),
    path("books/<int:pk>.json", views.book_json, name="book-json"),
    path("books/<int:pk>/edit/", views.BookUpdateView.as_view(), name="book-edit"),
    path("books/<int:pk>/publish/", views.PublishBookView.as_view(), name="book-publish"),
    path("published/<yyyy:year>/", views.books_by_year, name="books-by-year"),
    path("tags/new/", views.tag_create, name="tag-create"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("drafts/", views.drafts, name="drafts"),
    path("stock/", views.stock_report, name="stock"),
    path("stats/", views.library_stats, name="stats"),
    path("authors/", views.AuthorListView.as_view(), name="author-list"),
    path("account/", views.AccountView.as_view(), name="account"),
]
