"""facts/models.py: model facts read from the one field list Django keeps per model, and the
same fields Django's own accessors give, for every shape a model's fields can take."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test.utils import isolate_apps

from django_mcp.facts.models import field_named, stored_fields

#: Django's per-model caches its field accessors fill (`concrete_fields`, `many_to_many`,
#: `get_field`), which gathering leaves unmade.
ACCESSOR_CACHES = ("fields", "concrete_fields", "many_to_many", "_forward_fields_map", "fields_map")


@isolate_apps("library")
def test_fields_are_found_as_djangos_accessors_find_them():
    """Multi-table and proxy inheritance, a generic foreign key and relation, forward and
    reverse one-to-one, foreign keys by name and by column, hidden relations, many-to-many
    both ways: `stored_fields` is `concrete_fields` then `many_to_many`, and `field_named`
    returns what `get_field` returns for every name, or raises where it raises."""
    from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
    from django.contrib.contenttypes.models import ContentType

    class Place(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "library"

    class Restaurant(Place):
        serves = models.CharField(max_length=20)
        regulars = models.ManyToManyField("Guest", related_name="haunts")

        class Meta:
            app_label = "library"

    class Guest(models.Model):
        favourite = models.ForeignKey(Place, models.SET_NULL, null=True, related_name="fans")
        rival = models.ForeignKey(Place, models.SET_NULL, null=True, related_name="+")
        content_type = models.ForeignKey(ContentType, models.CASCADE, related_name="+")
        object_id = models.PositiveIntegerField()
        target = GenericForeignKey("content_type", "object_id")

        class Meta:
            app_label = "library"

    class Profile(models.Model):
        guest = models.OneToOneField(Guest, models.CASCADE, related_name="profile")
        notes = GenericRelation(Guest)

        class Meta:
            app_label = "library"

    class RestaurantProxy(Restaurant):
        class Meta:
            app_label = "library"
            proxy = True

    def looked_up(lookup, name):
        try:
            return lookup(name)
        except FieldDoesNotExist:
            return FieldDoesNotExist

    zoo = (Place, Restaurant, Guest, Profile, RestaurantProxy)
    Place._meta.apps.clear_cache()  # as a project's registry stands once every model is in
    for model in zoo:
        opts = model._meta
        names = {"nothing", "pk", "haunts", "fans", "profile", "guest_id", "place_ptr_id", "restaurant"}
        for field in opts.get_fields(include_hidden=True):
            names |= {field.name, getattr(field, "attname", field.name)}
        # Before Django's own map exists (gathering's case), then after (a queried model's).
        found = {name: looked_up(lambda name: field_named(model, name), name) for name in names}
        assert "_forward_fields_map" not in opts.__dict__
        expected = {name: looked_up(opts.get_field, name) for name in names}
        again = {name: looked_up(lambda name: field_named(model, name), name) for name in names}
        for name in sorted(names):
            assert found[name] is expected[name] is again[name], (model.__name__, name)
        assert stored_fields(model) == [*opts.concrete_fields, *opts.many_to_many], model.__name__


@isolate_apps("library")
def test_an_admins_facts_leave_its_models_field_caches_unmade(rf):
    """Gathering describes every admin's model; Django's field accessors would leave a list
    or a name map on each model's options, which a process that never queries the model keeps
    for nothing. An admin whose columns, filters, search fields and ordering name fields and
    relation paths is described without them (a column Django must label itself, a method or
    a relation path or a foreign key's column, is labelled by the admin's own lookups)."""
    from django.contrib.admin import AdminSite, ModelAdmin

    from django_mcp.facts.admin import _admin_facts, privileged_request
    from django_mcp.facts.models import model_facts

    class Shelf(models.Model):
        label = models.CharField(max_length=20)

        class Meta:
            app_label = "library"

    class Volume(models.Model):
        title = models.CharField(max_length=20)
        shelf = models.ForeignKey(Shelf, models.CASCADE, related_name="volumes")
        neighbours = models.ManyToManyField("self", blank=True)

        class Meta:
            app_label = "library"

    class VolumeAdmin(ModelAdmin):
        list_display = ("title", "shelf")
        list_filter = ("shelf", "shelf__label")
        search_fields = ("title", "^shelf__label")
        ordering = ("title",)

    Volume._meta.apps.clear_cache()  # as a project's registry stands once every model is in
    site = AdminSite(name="shelves")
    site.register(Volume, VolumeAdmin)
    facts = _admin_facts("shelves/library.volume", site, Volume, site._registry[Volume], privileged_request(site), True)
    assert facts["paths"]["shelf__label"] == ["library.Volume.shelf", "library.Shelf.label"]
    for model in (Volume, Shelf):
        model_facts(model)
    made = [f"{m.__name__}.{c}" for m in (Volume, Shelf) for c in ACCESSOR_CACHES if c in m._meta.__dict__]
    assert made == []
