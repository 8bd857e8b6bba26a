"""The donor download: GET /api/v1/results/ (being written)."""

from rest_framework.views import APIView


class ResultsView(APIView):
    pass
