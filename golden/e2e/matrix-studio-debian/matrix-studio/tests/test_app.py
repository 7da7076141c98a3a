from backend.app import app

def test_health():
    assert app.routes["/api/health"]() == {"status": "ok"}
