"""The deterministic demo park (演示园区).

A Shandong industrial park with a cement clinker plant, a textile dyeing and finishing
plant, an electronics assembly plant with rooftop PV and a battery, and park public
facilities; 92 meters on three GB 17167 levels with 15-minute electricity data from
1 January of last year to yesterday, daily fuel, steam and water, monthly manual diesel,
production, economic data, coal and gas lots with laboratory NCVs, a time-of-use tariff and
injected faults (see :mod:`nengtan.demo.faults` for where they are).

Modules: :mod:`structure` (the park as data), :mod:`profiles` (load-shape building blocks),
:mod:`days` (holidays and 调休), :mod:`context`, the tenant models :mod:`cement`,
:mod:`textile`, :mod:`electronics`, :mod:`public`, :mod:`model` (runs them), :mod:`readings`
(quantities → register readings), :mod:`faults`, and :mod:`build` (writes it all through
the services).
"""

from nengtan.demo.build import DemoReport, build_demo

__all__ = ["DemoReport", "build_demo"]
