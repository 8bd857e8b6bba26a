"""/api/v1/ endpoints of the results framework (read-only)."""

from rest_framework.routers import DefaultRouter

from . import framework

router = DefaultRouter(trailing_slash=True)
router.register("programmes", framework.ProgrammeViewSet, basename="programme")
router.register("outcomes", framework.OutcomeViewSet, basename="outcome")
router.register("outputs", framework.OutputViewSet, basename="output")
router.register("activities", framework.ActivityViewSet, basename="activity")
router.register("indicators", framework.IndicatorViewSet, basename="indicator")
router.register("targets", framework.TargetViewSet, basename="target")
router.register("baselines", framework.BaselineViewSet, basename="baseline")
router.register("periods", framework.PeriodViewSet, basename="period")

urlpatterns = router.urls
