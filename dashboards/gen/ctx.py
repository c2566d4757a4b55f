"""The settings being rendered and the windows of the dashboard being built.

generate.py's render() sets them before it calls a dashboard or rule
renderer; every module reads them as ctx.S and ctx.DASH_WINDOWS.
"""

from gen.settings import Settings

S = Settings()
DASH_WINDOWS = []
