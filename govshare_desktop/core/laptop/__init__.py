"""The laptop for village visits (issue 18): a village checked out of the township's database into
a database of its own on a laptop, filled offline, and checked back in.

* **Check-out** (:mod:`.checkout`): from the office's database (a file or the server), one village
  — its households, persons and the records the forms read, the township, the installed forms and
  the village's 一表通 values (of one period, of some forms, or all) — is copied into a new
  database set up like any other (SQLCipher under a random key wrapped by the clerk's own
  password: the clerk signs in on the laptop as at the office). The office's database records
  the check-out and each value's version then (:class:`~govshare_desktop.core.store.models_laptop.
  LaptopCheckout`); the laptop's says what it is (:class:`~govshare_desktop.core.store.
  models_laptop.LaptopOrigin`). Both audit it.
* **Check-in** (:mod:`.checkin`): the laptop's database is read with the clerk's password. Each
  value typed on the laptop since the check-out is applied where the office's value is still at
  the version it had then, with its history (「下村录入（笔记本）」); where both sides changed it,
  it is a conflict, shown side by side and applied only as the clerk chooses. Everything in one
  transaction; audited on both sides. Persons, households and other records are not written back:
  they come from the back-flow.
"""
