"""登录 Sign in (the page form of the sign-in form)."""

from __future__ import annotations

from dashboard.components import login_form

login_form.render()
