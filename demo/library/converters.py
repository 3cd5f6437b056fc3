"""URL converters of the library's routes."""


class FourDigitYearConverter:
    """A year as four digits in the URL (`2024`), an int in the view."""

    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return "%04d" % value
