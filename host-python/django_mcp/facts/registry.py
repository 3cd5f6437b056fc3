"""The registry: the live objects behind the ids the engine names."""


class Registry:
    """The live objects behind the ids the engine names: (site, ModelAdmin) pairs by admin id,
    routed views (`facts.views.RoutedView`) and DRF views (`facts.drf.DrfView`) by view id,
    resource models, searches and custom items. Filled while the facts are gathered; the
    effects look their targets up here."""

    def __init__(self):
        self._by_id = {}
        self._views = {}
        self._drf = {}
        #: DJANGO_MCP_RESOURCE_MODELS models by label: (model, permission).
        self._resource_models = {}
        #: DJANGO_MCP_MODEL_SEARCH entries by model label (facts.search.Search).
        self._searches = {}
        #: The custom items (django_mcp.custom), by name.
        self.custom = None

    def add(self, admin_id, site, model_admin):
        self._by_id[admin_id] = (site, model_admin)

    def get(self, admin_id):
        return self._by_id[admin_id]

    def add_view(self, routed):
        self._views[routed.id] = routed

    def view(self, view_id):
        """The routed view with this id; any other id is a KeyError."""
        return self._views[view_id]

    def add_drf(self, view):
        self._drf[view.id] = view

    def drf(self, view_id):
        """The DRF view with this id; any other id is a KeyError."""
        return self._drf[view_id]

    def add_model(self, model, permission):
        """A model served as resources without an admin, to callers holding `permission`."""
        self._resource_models[model._meta.label] = (model, permission)

    def model(self, label):
        """A DJANGO_MCP_RESOURCE_MODELS model; any other label is a KeyError, so the
        resource effects can never reach a model the settings do not list."""
        return self._resource_models[label][0]

    def model_permission(self, label):
        return self._resource_models[label][1]

    def add_search(self, search):
        self._searches[search.model._meta.label] = search

    def search(self, label):
        """A DJANGO_MCP_MODEL_SEARCH entry; any other label is a KeyError."""
        return self._searches[label]

    def models(self):
        seen = []
        for _site, model_admin in self._by_id.values():
            if model_admin.model not in seen:
                seen.append(model_admin.model)
        for model, _permission in self._resource_models.values():
            if model not in seen:
                seen.append(model)
        for search in self._searches.values():
            for model in search.models:  # the model, and those its field paths cross
                if model not in seen:
                    seen.append(model)
        # Relations need their targets' pk facts, even when the target has no admin.
        for model in list(seen):
            for field in model._meta.get_fields():
                target = getattr(field, "related_model", None)
                if field.concrete or field.many_to_many:
                    if target is not None and target not in seen and not isinstance(target, str):
                        seen.append(target)
        return seen
