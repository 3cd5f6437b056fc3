"""Transports: streamable HTTP (`mcp_endpoint`) and STDIO (`manage.py mcp_server`)."""

from django_mcp.transport.http import mcp_endpoint

__all__ = ["mcp_endpoint"]
