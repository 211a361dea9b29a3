"""``/orgs/{id}``: an organisation's page. The route only decides who may see it; the page
reads and changes everything through the JSON API (owners: members, policy, invitations,
events; members: the policy and their own due date)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ankra_auth.api.deps import ContextDep, DbDep
from ankra_auth.orgs import service as orgs
from ankra_auth.orgs.access import OWNER
from ankra_auth.web.pages import redirect, render, with_next
from ankra_auth.web.visitor import current_visitor

router = APIRouter(include_in_schema=False)

SECURE_PAGE = "/secure-account"


@router.get("/orgs/{org_id}", name="page_org", response_model=None)
def org_page(
    org_id: str, request: Request, db: DbDep, ctx: ContextDep
) -> HTMLResponse | RedirectResponse:
    # Any id that is not one of the visitor's organisations gets the same 404 page.
    here = f"/orgs/{quote(org_id[:200], safe='')}"
    visitor = current_visitor(request, db, ctx)
    if visitor is None:
        return redirect(with_next("/login", here))
    if visitor.enrollment_required:
        return redirect(with_next(SECURE_PAGE, here))
    # Only the visitor's own organisations: any other id, real or not, is the same 404.
    view = next(
        (v for v in orgs.list_for_user(db, user_id=visitor.user.id) if v.org.id == org_id), None
    )
    if view is None:
        page = render("not_found.html", email=visitor.user.email, data={"auth": "session"})
        page.status_code = 404
        return page
    owner = view.role == OWNER
    return render(
        "org.html",
        email=visitor.user.email,
        org_name=view.org.name,
        owner=owner,
        data={
            "auth": "session",
            "org": view.org.id,
            "org-name": view.org.name,
            "role": view.role,
            "user": visitor.user.id,
        },
    )
