"""The open project as a Qt-free model, and the use cases both front ends call.

``store``: the only reader and writer of state.json. ``actions``: what the app can do (open, preprocess,
train, review, evaluate, export, set a status). ``model``: the open session and its events. ``rules``: the
jobs and why an action is not available now.
"""
