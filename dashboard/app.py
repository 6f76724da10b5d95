"""Entry point: `streamlit run dashboard/app.py`. Sets up the page, the shared sidebar and navigation."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on the path, not the repository root.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import auth, navigation, service  # noqa: E402
from dashboard.i18n import LANGS, lang, t  # noqa: E402
from metrics.storage import clock  # noqa: E402

st.set_page_config(page_title="就业工作指标看板", page_icon=":material/dashboard:", layout="wide")
# Streamlit's English typing hints ("Press Enter to submit form") cannot be translated; the forms' buttons
# say what to do, so hide the hints. A fixed stylesheet, no user text.
st.html("<style>[data-testid='InputInstructions'] { display: none; }</style>")

with st.sidebar:
    st.radio("语言 / Language", list(LANGS), format_func=LANGS.__getitem__, key="lang", horizontal=True)
if "as_of" not in st.session_state:
    # KPI_AS_OF pins the default date (demo databases and browser tests); otherwise today.
    pinned = os.environ.get("KPI_AS_OF")
    st.session_state["as_of"] = dt.date.fromisoformat(pinned) if pinned else clock.today()


def filters() -> None:
    """The shared filters of the KPI pages (the press page shows frozen releases: it has none)."""
    with st.sidebar:
        st.date_input(t("as_of"), key="as_of", format="YYYY-MM-DD")
        cats = service.catalogues()
        st.multiselect(
            t("programme"),
            list(cats),
            format_func=lambda p: getattr(cats[p].programme, f"short_title_{lang()}"),
            key="programmes",
            placeholder=t("all"),
        )
        districts = sorted({c.programme.district for c in cats.values()})
        st.multiselect(t("district"), districts, key="districts", placeholder=t("all"))


HERE = Path(__file__).resolve().parent


def page(spec: navigation.PageSpec, default: bool = False) -> st.Page:
    return st.Page(HERE / "views" / spec.file, title=t(spec.title), icon=spec.icon, url_path=spec.url, default=default)


# Who is signed in is decided afresh on every run, from the kpi_session cookie (or single sign-on): a
# reload or a new tab stays signed in, a session ended elsewhere ends here on the next run (docs/server.md).
if service.maintenance():  # a restore is replacing the database (docs/admin.md): say so, touch nothing
    st.info(t("maintenance"), icon=":material/construction:")
    st.stop()
run_epoch = service.epoch()
principal = auth.current()
if principal is None:
    # Every page is registered (hidden) so a shared link resolves; the way to /signin shows instead of it,
    # and nothing of the page. The server sends a signed-out browser to /signin before the app loads; this
    # is what a tab whose session ended while it was open sees on its next action.
    login = st.Page(
        HERE / "views" / "login.py", title=t("login"), icon=":material/login:", url_path="login", default=True
    )
    from dashboard.components import login_form

    # /sso: where the /signin page's link "统一身份认证登录" leads; it goes straight on to the provider
    sso = st.Page(login_form.start_sso, title=t("login_oidc"), icon=":material/key:", url_path="sso")
    every = [login, sso, *(page(spec) for spec in navigation.PAGES)]
    nav = st.navigation(every, position="hidden")
    if not service.store_available():
        st.error(t("no_db"))
        st.stop()
    if nav.url_path == sso.url_path:
        nav.run()
    else:
        here = "" if nav.url_path == login.url_path else nav.url_path
        login_form.render(auth.signin_url(here, st.query_params.to_dict()))
    st.stop()
else:
    # the pages whose permission the role holds (metrics.auth.access); each page checks again when it runs
    specs = navigation.pages_for(principal.role)
    pages = [page(spec, default=i == 0) for i, spec in enumerate(specs)]
    nav = st.navigation(pages)
    # the page the browser's address asked for (after /signin: its `next`), or one a test names
    target, query = st.session_state.pop("after_login", None) or (auth.requested_page(), {})
    wanted = next((p for p, spec in zip(pages, specs, strict=True) if spec.url == target), None)
    if wanted is not None and wanted.url_path != nav.url_path:
        st.switch_page(wanted, query_params=query)
    if wanted is None and target in navigation.BY_URL:
        # a link to a page this role does not have: say so (the service check refuses and logs it)
        try:
            if service.store_available():
                service.guarded(principal, navigation.BY_URL[target].action)
        except service.AccessDenied:
            st.error(t("denied_page").format(page=t(navigation.BY_URL[target].title)))
    if principal.role != "press":
        filters()
    with st.sidebar:
        st.caption(f"{t('signed_in_as')}：{principal.display} · {t('role_' + principal.role)}")
        # ends the session server-side: this tab shows the way to /signin at once, other tabs on their next run
        st.button(t("logout"), on_click=auth.sign_out, icon=":material/logout:")

if not service.store_available():
    st.error(t("no_db"))
    st.stop()

try:
    with auth.resolved(principal):  # the page gate takes this run's principal instead of resolving it again
        nav.run()
except Exception:
    if service.epoch() == run_epoch:
        raise
    st.info(t("maintenance"), icon=":material/construction:")  # the database was replaced under this run
