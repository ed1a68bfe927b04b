def reopen_wizard(wizard, name):
    """The action that shows ``wizard`` again (same record, as a dialog) after a button."""
    return {
        "type": "ir.actions.act_window",
        "res_model": wizard._name,
        "res_id": wizard.id,
        "view_mode": "form",
        "target": "new",
        "name": name,
    }
