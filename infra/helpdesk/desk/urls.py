from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
    # Attachments as the API links them (MEDIA_URL), so tests read the stored bytes back over HTTP.
    # Django's static() helper adds nothing when DEBUG is off, hence the view itself.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
